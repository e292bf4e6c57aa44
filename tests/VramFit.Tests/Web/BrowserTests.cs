using Microsoft.Playwright;

namespace VramFit.Tests.Web;

/// <summary>Drives the real page in headless Chromium; screenshots go to TestResults/screenshots.</summary>
public sealed class BrowserTests(WebFixture web) : IClassFixture<WebFixture>, IAsyncLifetime
{
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
    private IPlaywright? playwright;
    private IBrowser? browser;

    public async Task InitializeAsync()
    {
        if (ChromiumFactAttribute.Executable is null)
            return;
        Directory.CreateDirectory(Screenshots);
        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.Executable,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
    }

    public async Task DisposeAsync()
    {
        if (browser is not null)
            await browser.DisposeAsync();
        playwright?.Dispose();
    }

    private async Task<IPage> Open(string query = "")
    {
        var context = await browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 1400 } });
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new BrowserContextGrantPermissionsOptions { Origin = web.BaseAddress });
        var page = await context.NewPageAsync();
        await page.GotoAsync(web.BaseAddress + "/" + query);
        await page.WaitForSelectorAsync("body[data-state=ready]", new PageWaitForSelectorOptions { Timeout = 30_000 });
        return page;
    }

    private static async Task WaitForVerdict(IPage page, string text) =>
        await page.WaitForFunctionAsync("t => document.getElementById('verdict').textContent.includes(t)", text, new PageWaitForFunctionOptions { Timeout = 30_000 });

    [ChromiumFact]
    public async Task Choosing_a_model_and_gpu_shows_the_breakdown_and_the_verdict()
    {
        var page = await Open();
        await page.FillAsync("#model", "meta-llama/Llama-3.1-8B");
        await page.FillAsync("#gpu", "24GiB");
        await WaitForVerdict(page, "Fits");
        Assert.True(await page.Locator("#bars rect[data-category=Weights]").CountAsync() >= 1);
        Assert.Equal(1, await page.Locator("#bars line.capacity").CountAsync());
        Assert.Contains("KV cache", await page.Locator("#items").InnerTextAsync(), StringComparison.Ordinal);
        var tooltip = await page.Locator("#items tbody tr").First.GetAttributeAsync("title");
        Assert.Contains("source:", tooltip, StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "estimate.png"), FullPage = true });
    }

    [ChromiumFact]
    public async Task Changing_the_context_updates_verdict_chart_and_url()
    {
        var page = await Open("?model=Llama-3.1-8B&gpu=24GiB&context=8192");
        var before = await page.Locator("#curve path.series-totalBytes").GetAttributeAsync("d");
        await page.FillAsync("#context", "131072");
        await WaitForVerdict(page, "Does not fit");
        Assert.Contains("context=131072", page.Url, StringComparison.Ordinal);
        Assert.True(await page.Locator("#curve circle.point").CountAsync() >= 2);
        await page.SelectOptionAsync("#axis", "batch");
        await page.WaitForFunctionAsync("() => location.search.includes('axis=batch')");
        await page.WaitForFunctionAsync("d => document.querySelector('#curve path.series-totalBytes').getAttribute('d') !== d", before);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "context-131072.png"), FullPage = true });
    }

    [ChromiumFact]
    public async Task A_shared_url_restores_the_form()
    {
        var page = await Open("?model=meta-llama%2FLlama-3.1-8B&gpu=80GB&context=2048&batch=3&quant=nf4");
        Assert.Equal("80GB", await page.InputValueAsync("#gpu"));
        Assert.Equal("3", await page.InputValueAsync("#batch"));
        Assert.Equal("nf4", await page.InputValueAsync("#quant"));
        await WaitForVerdict(page, "Fits");
    }

    [ChromiumFact]
    public async Task The_launch_command_can_be_copied()
    {
        var page = await Open("?model=Llama-3.1-8B&gpu=24GiB");
        await page.ClickAsync("#copy");
        await page.WaitForFunctionAsync("() => document.body.dataset.copied !== undefined");
        var copied = await page.EvaluateAsync<string>("() => document.body.dataset.copied");
        Assert.Contains("from_pretrained", copied, StringComparison.Ordinal);
        Assert.Equal("copied", await page.InnerTextAsync("#copied"));
    }

    [ChromiumFact]
    public async Task The_plan_tab_ranks_options_and_copies_a_command()
    {
        var page = await Open("?model=meta-llama%2FLlama-3.1-70B&gpu=rtx-4090&gpus=2&context=8192");
        await page.ClickAsync("#tab-plan");
        await page.ClickAsync("#run-plan");
        await page.WaitForSelectorAsync("body[data-plan=ready]", new PageWaitForSelectorOptions { Timeout = 60_000 });
        Assert.True(await page.Locator("#plan-table tbody tr").CountAsync() >= 1);
        await page.Locator("#plan-table button.copy-plan").First.ClickAsync();
        var copied = await page.EvaluateAsync<string>("() => document.body.dataset.copied");
        Assert.False(string.IsNullOrWhiteSpace(copied));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "plan.png"), FullPage = true });
    }

    [ChromiumFact]
    public async Task The_simulate_tab_compares_batching_policies()
    {
        var page = await Open("?model=meta-llama%2FLlama-3.1-8B&gpu=h100-sxm&engine=vllm");
        await page.ClickAsync("#tab-simulate");
        await page.FillAsync("#requests", "300");
        await page.ClickAsync("#run-sim");
        await page.WaitForSelectorAsync("body[data-sim=ready]", new PageWaitForSelectorOptions { Timeout = 60_000 });
        Assert.Equal(3, await page.Locator("#sim-chart rect.sim-bar").CountAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "simulate.png"), FullPage = true });
    }

    [ChromiumFact]
    public async Task Bad_input_shows_the_servers_message()
    {
        var page = await Open("?model=Llama-3.1-8B&gpu=24GiB");
        await page.FillAsync("#gpu", "lots");
        await page.WaitForSelectorAsync("body[data-state=error]");
        Assert.Contains("gpu", await page.InnerTextAsync("#error"), StringComparison.Ordinal);
    }
}
