// The one place that turns errors into HTTP answers, as Loki does: query-side errors are plain
// text bodies (no trailing newline) with Loki's status codes; push errors are Go http.Error style
// (trailing newline). Anything unexpected is a 500 with its message.
import type { FastifyReply } from 'fastify';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly trailingNewline = false) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Maps any thrown error to (status, body). Errors from our modules carry `status`. */
export function errorStatus(e: unknown): { status: number; message: string } {
  const err = e as { status?: unknown; statusCode?: unknown; message?: unknown; name?: string };
  let status = typeof err.status === 'number' ? err.status : typeof err.statusCode === 'number' ? err.statusCode : 500;
  if (err.name === 'ParseError' || err.name === 'PipelineCompileError' || err.name === 'RegexError' || err.name === 'TemplateParseError') status = 400;
  if (err.name === 'CancelledError') status = 499;
  const message = typeof err.message === 'string' ? err.message : String(e);
  return { status, message };
}

export function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  const { status, message } = errorStatus(e);
  const nl = e instanceof HttpError && e.trailingNewline;
  return reply
    .code(status)
    .header('Content-Type', 'text/plain; charset=utf-8')
    .header('X-Content-Type-Options', 'nosniff')
    .send(nl ? message + '\n' : message);
}
