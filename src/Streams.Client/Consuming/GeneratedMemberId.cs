using System.Globalization;
using System.Text;

namespace Streams.Client.Consuming;

/// <summary>
/// The member id a consumer takes when its options name none: host, process id and a random
/// suffix (<c>web-7-1234-k3x9q2</c>), so two processes, or two consumers in one process, never
/// share one. Only characters the server allows in a member id; at most 128 of them.
/// </summary>
internal static class GeneratedMemberId
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
    private const int SuffixLength = 6;
    private const int MaxHostLength = 80;

    /// <summary>The id for <paramref name="host"/> and <paramref name="processId"/>, with a suffix drawn from <paramref name="unitRandom"/> in [0, 1).</summary>
    /// <param name="host">The machine's name.</param>
    /// <param name="processId">The process id.</param>
    /// <param name="unitRandom">A random draw in [0, 1).</param>
    public static string Create(string host, int processId, double unitRandom)
    {
        var text = new StringBuilder();
        foreach (var c in host ?? string.Empty)
        {
            if (text.Length == MaxHostLength)
            {
                break;
            }

            text.Append(IsAllowed(c) ? c : '-');
        }

        if (text.Length == 0)
        {
            text.Append("consumer");
        }

        text.Append('-').Append(processId.ToString(CultureInfo.InvariantCulture)).Append('-');

        // 36^6 suffixes: two consumers of one process collide about once in two billion pairs.
        var value = (long)(Math.Clamp(unitRandom, 0, 1) * Math.Pow(Alphabet.Length, SuffixLength));
        Span<char> suffix = stackalloc char[SuffixLength];
        for (var i = SuffixLength - 1; i >= 0; i--)
        {
            suffix[i] = Alphabet[(int)(value % Alphabet.Length)];
            value /= Alphabet.Length;
        }

        return text.Append(suffix).ToString();
    }

    /// <summary>True for the characters a member id may hold: letters, digits, '_', '.', ':' and '-'.</summary>
    /// <param name="c">A character.</param>
    public static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-';
}
