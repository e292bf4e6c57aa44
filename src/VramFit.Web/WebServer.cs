using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VramFit.Web.Api;

namespace VramFit.Web;

/// <summary>
/// <c>vramfit serve</c>: a minimal API over the library plus one static page. Every number comes from the
/// same library calls as the CLI; this layer only binds query strings and renders JSON.
/// </summary>
public static class WebServer
{
    /// <summary>Builds the application (not started) for <paramref name="options"/>.</summary>
    public static WebApplication Build(WebOptions options)
    {
        bool loopback = options.IsLoopback();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "VramFit.Web" });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
            k.Limits.MaxRequestLineSize = 16 * 1024;
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            if (options.Host == "localhost")
                k.ListenLocalhost(options.Port);
            else
                k.Listen(System.Net.IPAddress.Parse(options.Host), options.Port);
        });
        builder.Services.AddSingleton(options);
        var app = builder.Build();
        app.Use(ApiErrors.Middleware);
        EstimateEndpoints.Map(app);
        CatalogEndpoints.Map(app);
        PlanEndpoints.Map(app);
        MapStaticPage(app);
        if (!loopback)
            app.Lifetime.ApplicationStarted.Register(() =>
                Console.Error.WriteLine($"warning: serving on {options.Host}:{options.Port}, reachable from other machines; the API has no authentication"));
        return app;
    }

    /// <summary>The address the running app listens on (after start), e.g. http://127.0.0.1:5005.</summary>
    public static string Address(WebApplication app) =>
        app.Urls.FirstOrDefault() ?? throw new InvalidOperationException("not started");

    private static void MapStaticPage(WebApplication app)
    {
        foreach (var (path, file, type) in new[]
        {
            ("/", "index.html", "text/html; charset=utf-8"),
            ("/app.js", "app.js", "text/javascript; charset=utf-8"),
            ("/app.css", "app.css", "text/css; charset=utf-8"),
        })
        {
            var bytes = Resource(file);
            app.MapGet(path, () => Results.Bytes(bytes, type));
        }
    }

    private static byte[] Resource(string file)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("VramFit.Web.wwwroot." + file)
            ?? throw new InvalidOperationException($"embedded page file {file} missing");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
