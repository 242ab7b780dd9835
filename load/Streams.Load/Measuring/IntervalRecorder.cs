using System.Numerics;
using System.Runtime.InteropServices;

namespace Streams.Load.Measuring;

/// <summary>
/// Latencies recorded by many concurrent workers, read back one interval at a time (say once per
/// second, for a timeline) and in total. Thread-safe: <see cref="Record"/> may be called from any
/// number of threads while another calls <see cref="TakeInterval()"/>.
/// </summary>
/// <remarks>
/// <para>
/// Values go to one of a few stripes, picked by the managed thread id, each a
/// <see cref="LatencyHistogram"/> behind a one-word spin lock: a worker holds it only while
/// counting one value, so it is almost never contended (only when two threads share a stripe, or
/// during the swap below), and costs one interlocked compare-exchange and one store. The stripes
/// sit 128 bytes apart so workers on neighbouring stripes do not share a cache line.
/// </para>
/// <para>
/// <see cref="TakeInterval()"/> swaps each stripe's histogram for a cleared spare under that
/// stripe's lock, then merges the swapped-out one outside it. A record racing with the swap holds
/// the same lock, so it lands wholly before the swap (this interval) or wholly after (the next):
/// never lost, never counted twice. The spares are reused, so taking intervals does not allocate
/// per stripe.
/// </para>
/// </remarks>
internal sealed class IntervalRecorder
{
    private readonly Stripe[] _stripes;
    private readonly int _stripeMask;
    private readonly LatencyHistogram _total;

    // Serializes TakeInterval, ResetTotal and reads of Total: the spares and the total are theirs.
    private readonly Lock _takeLock = new();

    /// <summary>Creates a recorder whose histograms all have the given settings.</summary>
    /// <param name="lowestNanos">See <see cref="LatencyHistogram(long, long, int)"/>.</param>
    /// <param name="highestNanos">See <see cref="LatencyHistogram(long, long, int)"/>.</param>
    /// <param name="significantDigits">See <see cref="LatencyHistogram(long, long, int)"/>.</param>
    /// <param name="stripes">How many stripes (rounded up to a power of two); 0 for one per processor. Each holds two histograms.</param>
    /// <exception cref="ArgumentOutOfRangeException">A histogram setting is out of range, or <paramref name="stripes"/> is negative or above 1024.</exception>
    public IntervalRecorder(
        long lowestNanos = LatencyHistogram.DefaultLowestNanos,
        long highestNanos = LatencyHistogram.DefaultHighestNanos,
        int significantDigits = LatencyHistogram.DefaultSignificantDigits,
        int stripes = 0)
    {
        if (stripes is < 0 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(stripes), stripes,
                "Stripes must be 0 (one per processor) to 1024; each holds two histograms, so pass a small count.");
        }

        // Validates the settings before any stripe is allocated.
        _total = new LatencyHistogram(lowestNanos, highestNanos, significantDigits);

        var count = (int)BitOperations.RoundUpToPowerOf2((uint)(stripes == 0 ? Environment.ProcessorCount : stripes));
        _stripes = new Stripe[count];
        _stripeMask = count - 1;
        for (var i = 0; i < count; i++)
        {
            _stripes[i].Active = _total.Copy();
            _stripes[i].Spare = _total.Copy();
        }
    }

    /// <summary>How many stripes values are spread over.</summary>
    public int Stripes => _stripes.Length;

    /// <summary>
    /// Everything taken by <see cref="TakeInterval()"/> since creation or <see cref="ResetTotal"/>,
    /// as a copy (it allocates). Values recorded since the last interval are not in it yet: take
    /// the interval first for an up-to-date total.
    /// </summary>
    public LatencyHistogram Total
    {
        get
        {
            lock (_takeLock)
            {
                return _total.Copy();
            }
        }
    }

    /// <summary>Counts one value. Thread-safe; does not allocate; never throws on a value.</summary>
    /// <param name="nanos">The value, in nanoseconds.</param>
    public void Record(long nanos)
    {
        ref var stripe = ref _stripes[Environment.CurrentManagedThreadId & _stripeMask];
        Enter(ref stripe.Busy);
        stripe.Active.Record(nanos);
        Volatile.Write(ref stripe.Busy, 0);
    }

    /// <summary>The values recorded since the previous call (or creation), in a new histogram; they are also added to <see cref="Total"/>.</summary>
    /// <returns>The interval's values.</returns>
    public LatencyHistogram TakeInterval()
    {
        var interval = _total.Copy();
        interval.Reset();
        TakeInterval(interval);
        return interval;
    }

    /// <summary>
    /// Like <see cref="TakeInterval()"/>, into a histogram the caller reuses: it is cleared, then
    /// holds the values recorded since the previous call.
    /// </summary>
    /// <param name="destination">A histogram with this recorder's settings.</param>
    /// <exception cref="ArgumentException">The settings of <paramref name="destination"/> differ.</exception>
    public void TakeInterval(LatencyHistogram destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.LowestTrackable != _total.LowestTrackable
            || destination.HighestTrackable != _total.HighestTrackable
            || destination.SignificantDigits != _total.SignificantDigits)
        {
            // Checked before anything is swapped out, so a mistake loses no values.
            throw new ArgumentException(
                "The destination must have the recorder's lowest, highest and digits; create it with the same settings.", nameof(destination));
        }

        destination.Reset();
        lock (_takeLock)
        {
            for (var i = 0; i < _stripes.Length; i++)
            {
                ref var stripe = ref _stripes[i];
                Enter(ref stripe.Busy);
                var taken = stripe.Active;
                stripe.Active = stripe.Spare;
                Volatile.Write(ref stripe.Busy, 0);

                // Out of the lock: writers already use the fresh histogram, and this one is only
                // ours until the next take, when it is the cleared spare.
                destination.Add(taken);
                taken.Reset();
                stripe.Spare = taken;
            }

            _total.Add(destination);
        }
    }

    /// <summary>Forgets the total (not the values recorded since the last interval).</summary>
    public void ResetTotal()
    {
        lock (_takeLock)
        {
            _total.Reset();
        }
    }

    private static void Enter(ref int busy)
    {
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            Contended(ref busy);
        }
    }

    // Out of line so the uncontended path stays small enough to inline. SpinWait yields and then
    // sleeps, so a holder that was preempted gets to run.
    private static void Contended(ref int busy)
    {
        var spinner = new SpinWait();
        do
        {
            spinner.SpinOnce();
        }
        while (Volatile.Read(ref busy) != 0 || Interlocked.CompareExchange(ref busy, 1, 0) != 0);
    }

    // One stripe, padded to 128 bytes (two cache lines, or one adjacent-line prefetch pair), with
    // the fields in the middle: the lock word and the histogram reference of neighbouring stripes
    // are then never in the same line, whatever the array's alignment.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct Stripe
    {
        // 1 while a thread holds the stripe.
        [FieldOffset(56)]
        public int Busy;

        // Written only under the lock (by TakeInterval); read by writers under it.
        [FieldOffset(64)]
        public LatencyHistogram Active;

        // Touched only by TakeInterval, under _takeLock.
        [FieldOffset(72)]
        public LatencyHistogram Spare;
    }
}
