using BenchmarkDotNet.Running;
using Mailer.Benchmarks;

// dotnet run -c Release --project bench/Mailer.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(ComposeBenchmarks).Assembly).Run(args);
