namespace Mailer.Tests.Support;

/// <summary>
/// A file system of a few megabytes (a tmpfs mounted on a temporary folder) that a test can fill to the last page with a
/// filler file and free again, as a disk that runs full and gets space back. Mounting needs root, which CI has; elsewhere
/// the test skips (fails under <c>CI=true</c>) and says why.
/// <code>
/// await using var disk = await SmallFileSystem.MountAsync(megabytes: 32);
/// disk.Fill(); ... disk.Free();
/// </code>
/// </summary>
public sealed class SmallFileSystem : IAsyncDisposable
{
    private const string Mount = "/usr/bin/mount";
    private const string Umount = "/usr/bin/umount";

    private SmallFileSystem(string path) => Path = path;

    /// <summary>The mounted folder.</summary>
    public string Path { get; }

    private string Filler => System.IO.Path.Combine(Path, "filler");

    public static async Task<SmallFileSystem> MountAsync(int megabytes)
    {
        ExternalProgram.Require(Mount, "mount");
        if (Environment.UserName != "root")
        {
            ExternalProgram.SkipOrFail("Mounting a size-limited file system (tmpfs) needs root; CI runs as root.");
        }

        var path = TestPaths.NewTemporaryDirectory("small-disk");
        var (exitCode, output) = await ExternalProgram.RunAsync(Mount, ["-t", "tmpfs", "-o", $"size={megabytes}m,mode=0755", "tmpfs", path]);
        if (exitCode != 0)
        {
            ExternalProgram.SkipOrFail($"mount -t tmpfs failed ({exitCode}): {output.Trim()} (a container without CAP_SYS_ADMIN cannot mount).");
        }

        return new SmallFileSystem(path);
    }

    /// <summary>Writes a filler file until the file system has no page left; returns its size in bytes.</summary>
    public long Fill()
    {
        using var filler = new FileStream(Filler, FileMode.Append, FileAccess.Write, FileShare.None, bufferSize: 0);
        foreach (var chunk in new[] { 1 << 20, 4096, 512, 1 })
        {
            var bytes = new byte[chunk];
            try
            {
                while (true)
                {
                    filler.Write(bytes);
                }
            }
            catch (IOException)
            {
                // No space left for a chunk this big: on with a smaller one.
            }
        }

        return filler.Length;
    }

    /// <summary>Deletes the filler: the space is back.</summary>
    public void Free() => File.Delete(Filler);

    public async ValueTask DisposeAsync()
    {
        await ExternalProgram.RunAsync(Umount, ["--lazy", Path]);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
