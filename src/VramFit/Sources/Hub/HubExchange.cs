namespace VramFit.Sources.Hub;

/// <summary>
/// One successful response being read: owns it and its timeout. The timeout disposes the response, which is
/// the only way to interrupt a synchronous body read; the read then reports "timed out" instead of an I/O error.
/// </summary>
internal sealed class HubExchange : IDisposable
{
    private readonly CancellationTokenSource timeout;
    private readonly CancellationTokenRegistration abort;
    private readonly HubClient client;
    private readonly Uri url;

    public HubExchange(HttpResponseMessage response, CancellationTokenSource timeout, HubClient client, Uri url)
    {
        Response = response;
        this.timeout = timeout;
        this.client = client;
        this.url = url;
        abort = timeout.Token.Register(response.Dispose);
    }

    public HttpResponseMessage Response { get; }

    public Stream Body()
    {
        try
        {
            return Response.Content.ReadAsStream(timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && timeout.IsCancellationRequested)
        {
            throw client.TimedOut(url);
        }
    }

    public int Read(Stream body, byte[] buffer, int offset, int count)
    {
        try
        {
            return body.Read(buffer, offset, count);
        }
        catch (Exception e) when (timeout.IsCancellationRequested && e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            throw client.TimedOut(url);
        }
        catch (IOException e)
        {
            // HttpIOException "response ended prematurely": fewer bytes than Content-Length.
            throw new HubException($"{url}: truncated response ({e.Message})", null, e);
        }
    }

    public void Dispose()
    {
        abort.Dispose();
        timeout.Dispose();
        Response.Dispose();
    }
}
