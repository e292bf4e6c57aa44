using Microsoft.AspNetCore.Builder;
using VramFit.Web;

namespace VramFit.Tests.Web;

/// <summary>One running server on a free loopback port, shared by the API and browser tests of a class.</summary>
public sealed class WebFixture : IAsyncLifetime
{
    private WebApplication? app;

    public string BaseAddress { get; private set; } = "";

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        app = WebServer.Build(new WebOptions { Port = 0 });
        await app.StartAsync();
        BaseAddress = WebServer.Address(app);
        Client = new HttpClient { BaseAddress = new Uri(BaseAddress), Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
