using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Streams.Cli;

/// <summary>Arguments and options several commands share.</summary>
internal static class Arguments
{
    public static Argument<string> Stream() => new("stream") { Description = "The stream's name." };

    /// <summary>Accepts only whole numbers of at least <paramref name="minimum"/>.</summary>
    public static Option<int> AtLeast(this Option<int> option, int minimum)
    {
        option.CustomParser = result => ParseAtLeast(result, minimum) ?? 0;
        return option;
    }

    /// <summary>Accepts only whole numbers of at least <paramref name="minimum"/>; null when not given.</summary>
    public static Option<int?> AtLeast(this Option<int?> option, int minimum)
    {
        option.CustomParser = result => ParseAtLeast(result, minimum);
        return option;
    }

    /// <summary>The single token of an option's value, or null when it has none.</summary>
    public static string? Token(OptionResult? result) => result is { Tokens.Count: > 0 } ? result.Tokens[^1].Value : null;

    private static int? ParseAtLeast(ArgumentResult result, int minimum)
    {
        if (result.Tokens.Count == 0)
        {
            return null;
        }

        var text = result.Tokens[^1].Value;
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= minimum)
        {
            return value;
        }

        var name = result.Parent is OptionResult option ? option.Option.Name : "the value";
        result.AddError($"{name} must be a whole number of at least {minimum}; got '{text}'.");
        return null;
    }
}
