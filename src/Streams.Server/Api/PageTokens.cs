using System.Buffers.Text;
using System.Text;

namespace Streams.Server.Api;

/// <summary>
/// The opaque next_token of ListStreams and ListShards: the parts a page continues from, joined
/// and base64url-encoded. Not signed: a changed token only lists from another place.
/// </summary>
internal static class PageTokens
{
    private const char Separator = '\n';

    /// <summary>A token carrying <paramref name="parts"/>.</summary>
    public static string Encode(params string[] parts) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join(Separator, parts)));

    /// <summary>The parts of a token, which must number <paramref name="count"/>.</summary>
    /// <exception cref="StreamsApiException">INVALID_ARGUMENT when the token is not one this API gave.</exception>
    public static string[] Decode(string token, int count)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token)).Split(Separator);
            if (parts.Length == count)
            {
                return parts;
            }
        }
        catch (FormatException)
        {
        }

        throw StreamsApiException.InvalidArgument("next_token is not one this API returned; pass the next_token of the previous response unchanged.");
    }
}
