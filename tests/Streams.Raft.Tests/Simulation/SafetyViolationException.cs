namespace Streams.Raft.Tests.Simulation;

public sealed class SafetyViolationException(string message) : Exception(message);
