using Streams.Cli;

// The first Ctrl-C asks the running command to stop (tail ends, calls are cancelled); a second
// one ends the process at once.
using var interrupt = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = !interrupt.IsCancellationRequested;
    interrupt.Cancel();
};

return await CliApp.RunAsync(args, Console.In, Console.Out, Console.Error, interrupt.Token);
