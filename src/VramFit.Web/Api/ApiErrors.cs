using System.Text.Json;
using Microsoft.AspNetCore.Http;
using VramFit.Errors;

namespace VramFit.Web.Api;

/// <summary>
/// Turns bad input into 400 with a one-line message (never 500): VramFit's own errors, malformed query
/// values, oversized bodies, timeouts (503). Anything else is a bug and answers 500 without details.
/// </summary>
internal static class ApiErrors
{
    public static async Task Middleware(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            var (status, message) = e switch
            {
                VramFitException v => (StatusCodes.Status400BadRequest, v.Message),
                BadRequestException b => (StatusCodes.Status400BadRequest, b.Message),
                BadHttpRequestException h => (h.StatusCode, h.Message),
                JsonException j => (StatusCodes.Status400BadRequest, "malformed JSON: " + j.Message),
                OperationCanceledException when !context.RequestAborted.IsCancellationRequested =>
                    (StatusCodes.Status503ServiceUnavailable, "the computation took too long; ask for less (fewer requests, points or candidates)"),
                OperationCanceledException => (499, "client closed the request"),
                _ => (StatusCodes.Status500InternalServerError, "internal error: " + e.GetType().Name),
            };
            context.Response.Clear();
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new ApiError(message), ApiJsonContext.Default.ApiError);
        }
    }
}

/// <summary>Error body of every failed API call.</summary>
public sealed record ApiError(string Error);

/// <summary>A request the API rejects before calling the library (bad number in the query string …).</summary>
internal sealed class BadRequestException(string message) : Exception(message);
