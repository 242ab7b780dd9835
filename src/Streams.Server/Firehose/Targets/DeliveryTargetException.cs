namespace Streams.Server.Firehose.Targets;

/// <summary>
/// An object was not stored. <see cref="Code"/> names the reason (<see cref="DeliveryTargetErrors"/>),
/// the message says what to change, and <see cref="Permanent"/> hints that retrying will not help
/// until a person changes something (the bucket, the credentials); the caller still retries, with backoff.
/// </summary>
public sealed class DeliveryTargetException : Exception
{
    /// <summary>A failure with its code, message, hint and cause.</summary>
    /// <param name="code">One of <see cref="DeliveryTargetErrors"/>.</param>
    /// <param name="message">What happened and what to change.</param>
    /// <param name="permanent">True when retrying will not help until someone changes something.</param>
    /// <param name="innerException">The cause, if any.</param>
    public DeliveryTargetException(string code, string message, bool permanent, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        Permanent = permanent;
    }

    /// <summary>A failure of unknown cause.</summary>
    public DeliveryTargetException()
        : this(DeliveryTargetErrors.RequestFailed, "Storing the object failed.", permanent: false)
    {
    }

    /// <summary>A failure of unknown cause with a message.</summary>
    /// <param name="message">What happened.</param>
    public DeliveryTargetException(string message)
        : this(DeliveryTargetErrors.RequestFailed, message, permanent: false)
    {
    }

    /// <summary>A failure of unknown cause with a message and its cause.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    public DeliveryTargetException(string message, Exception innerException)
        : this(DeliveryTargetErrors.RequestFailed, message, permanent: false, innerException)
    {
    }

    /// <summary>Why, as a stable name (<see cref="DeliveryTargetErrors"/>).</summary>
    public string Code { get; }

    /// <summary>True when retrying will not help until someone changes something (the caller still retries, with backoff).</summary>
    public bool Permanent { get; }
}
