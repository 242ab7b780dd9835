namespace Streams.Client.Producing;

/// <summary>
/// What a flush waits for: every batch holding records taken before it. Each flush starts a new
/// generation; a batch belongs to the generation it was opened in (a batch made of records moved from
/// others takes the oldest of theirs), and a flush of generation g completes once no batch of g or
/// older is left. Records taken after the flush do not hold it up. Not thread-safe: the producer's
/// lock guards it.
/// </summary>
internal sealed class FlushTracker
{
    private readonly SortedDictionary<long, int> _unfinished = [];
    private readonly List<(long Generation, TaskCompletionSource Done)> _waiters = [];

    /// <summary>The generation new batches belong to.</summary>
    public long Generation { get; private set; }

    /// <summary>Batches not yet finished.</summary>
    public int Unfinished { get; private set; }

    /// <summary>A batch of <paramref name="generation"/> was made.</summary>
    public void Opened(long generation)
    {
        _unfinished[generation] = _unfinished.TryGetValue(generation, out var count) ? count + 1 : 1;
        Unfinished++;
    }

    /// <summary>A batch of <paramref name="generation"/> is finished; flushes it completes go to <paramref name="completed"/>.</summary>
    public void Finished(long generation, List<TaskCompletionSource> completed)
    {
        ArgumentNullException.ThrowIfNull(completed);
        if (!_unfinished.TryGetValue(generation, out var count))
        {
            throw new InvalidOperationException($"No batch of flush generation {generation} is unfinished.");
        }

        if (count == 1)
        {
            _unfinished.Remove(generation);
        }
        else
        {
            _unfinished[generation] = count - 1;
        }

        Unfinished--;
        if (_waiters.Count == 0)
        {
            return;
        }

        var oldest = Oldest();
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Generation < oldest)
            {
                completed.Add(_waiters[i].Done);
                _waiters.RemoveAt(i);
            }
        }
    }

    /// <summary>Starts a new generation; the task completes once every batch of the previous ones is finished.</summary>
    public Task Flush()
    {
        var generation = Generation++;
        if (Oldest() > generation)
        {
            return Task.CompletedTask;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Add((generation, done));
        return done.Task;
    }

    private long Oldest()
    {
        foreach (var (generation, _) in _unfinished)
        {
            return generation;
        }

        return long.MaxValue;
    }
}
