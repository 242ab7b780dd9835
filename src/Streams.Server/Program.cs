using Streams.Server.Hosting;

// The Streams node. Everything is in StreamsNode (hosting) and NodeProgram (exit codes, output).
return await NodeProgram.RunAsync(args, Console.Out, Console.Error);
