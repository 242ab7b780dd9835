using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Streams.Server.Configuration;

namespace Streams.Server.Hosting;

/// <summary>Loads the server certificate named by <see cref="NodeOptions.TlsCertificatePath"/>.</summary>
internal static class CertificateLoader
{
    /// <summary>The certificate with its private key, or null when TLS is off; throws with what to change.</summary>
    public static X509Certificate2? Load(NodeOptions options)
    {
        if (!options.TlsEnabled)
        {
            return null;
        }

        var path = options.TlsCertificatePath!;
        var password = string.IsNullOrEmpty(options.TlsCertificatePassword) ? null : options.TlsCertificatePassword;
        X509Certificate2 certificate;
        try
        {
            certificate = IsPem(path) ? LoadPem(path, options.TlsKeyPath, password) : X509CertificateLoader.LoadPkcs12FromFile(path, password);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new NodeConfigurationException(
                $"Node:TlsCertificatePath (--tls-cert) '{path}' could not be loaded: {ex.Message} Check that it is a PKCS#12 (.pfx/.p12) or PEM certificate with its private key, and that Node:TlsCertificatePassword is right.",
                ex);
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new NodeConfigurationException(
                $"Node:TlsCertificatePath (--tls-cert) '{path}' holds no private key; a server certificate needs one (in the PKCS#12 file, in the PEM file, or in Node:TlsKeyPath).");
        }

        return certificate;
    }

    private static bool IsPem(string path)
    {
        var extension = Path.GetExtension(path);
        return extension.Equals(".pem", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".crt", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".cer", StringComparison.OrdinalIgnoreCase);
    }

    private static X509Certificate2 LoadPem(string path, string? keyPath, string? password)
    {
        var key = string.IsNullOrWhiteSpace(keyPath) ? null : keyPath;
        using var pem = password is null
            ? X509Certificate2.CreateFromPemFile(path, key)
            : X509Certificate2.CreateFromEncryptedPemFile(path, password, key);

        // A key loaded from PEM is ephemeral, which some platforms' TLS cannot use: round-trip
        // through PKCS#12 to get a certificate every platform can serve.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
    }
}
