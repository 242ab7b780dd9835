using Streams.Server.Configuration;

namespace Streams.Server.Metadata;

/// <summary>The rule for node ids, the same as <c>--node-id</c>'s: letters, digits, '.', '_' and '-'.</summary>
public static class NodeIds
{
    /// <summary>Null when <paramref name="nodeId"/> is a valid node id, else a message saying why not.</summary>
    /// <param name="nodeId">The node id.</param>
    /// <param name="fieldName">The field it came from.</param>
    public static string? Validate(string? nodeId, string fieldName)
    {
        if (string.IsNullOrEmpty(nodeId))
        {
            return $"{fieldName} is required: a node name such as 'node-1'.";
        }

        if (nodeId.Length > NodeOptions.MaxNodeIdLength || !nodeId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            var shown = nodeId.Length <= 48 ? nodeId : string.Concat(nodeId.AsSpan(0, 45), "...");
            return $"{fieldName} must be 1 to {NodeOptions.MaxNodeIdLength} letters, digits, '.', '_' or '-'; '{shown}' is not.";
        }

        return null;
    }
}
