// Request bodies as one Buffer, read straight into reused memory when the client announces the
// size (Content-Length, as Loki clients do). Fastify's own buffer parser collects the chunks
// and concatenates them into a new ~400 KB buffer per push; with the fixed mmap threshold that
// is a fresh mapping and ~100 page faults every time (0.8 of the bench's 17 CPU-s of ingest).
// Same limits and errors as Fastify's parser (413 over the route's bodyLimit, 400 when the
// length does not match). The push route gives its body back with releaseBody() once stored.
import type { IncomingMessage } from 'node:http';
import { errorCodes, type FastifyRequest } from 'fastify';
import { BufferPool } from '../util/buffer-pool.js';

const pool = new BufferPool(8);

/** Fastify content-type parser (function form) reading the payload stream into pooled memory. */
export function readBody(req: FastifyRequest, payload: IncomingMessage, done: (err: Error | null, body?: Buffer) => void): void {
  const limit = req.routeOptions.bodyLimit ?? 1 << 20;
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    return;
  }
  let buf: Buffer | null = Number.isInteger(declared) && declared >= 0 ? pool.acquire(declared) : null;
  let chunks: Buffer[] | null = buf === null ? [] : null;
  let got = 0;
  const finish = (): void => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
  };
  const drop = (): void => {
    if (buf !== null) pool.release(buf);
    buf = null;
    chunks = null;
  };
  function onData(chunk: Buffer | string): void {
    const c = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (got + c.length > limit) {
      finish();
      drop();
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    if (buf !== null && got + c.length <= buf.length) c.copy(buf, got);
    else if (buf !== null) {
      // more than announced: answered as a length mismatch at the end
      drop();
      chunks = [];
    } else chunks?.push(c);
    got += c.length;
  }
  function onEnd(err?: Error & { statusCode?: number }): void {
    finish();
    if (err != null) {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      drop();
      done(err);
      return;
    }
    if (Number.isInteger(declared) && got !== declared) {
      drop();
      done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      return;
    }
    done(null, buf ?? Buffer.concat(chunks ?? [], got));
  }
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}

/** Hands a body from readBody back for reuse (anything else is ignored); it must not be used afterwards. */
export function releaseBody(b: unknown): void {
  if (Buffer.isBuffer(b)) pool.release(b);
}
