// Request bodies read into pooled memory: same limits and errors as Fastify's own parser.
import { describe, expect, it, afterAll } from 'vitest';
import { request } from 'node:http';
import Fastify from 'fastify';
import { readBody, releaseBody } from '../../src/http/body.js';

const app = Fastify();
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', readBody);
const seen: Buffer[] = [];
app.post('/echo', { bodyLimit: 1000 }, async (req) => {
  const b = req.body as Buffer;
  const out = { len: b.length, sum: b.reduce((a, x) => (a + x) % 65536, 0) };
  seen.push(b);
  releaseBody(b);
  return out;
});
app.post('/big', { bodyLimit: 1 << 20 }, async (req) => {
  const b = req.body as Buffer;
  const out = { len: b.length, sum: b.reduce((a, x) => (a + x) % 65536, 0), ab: seen.indexOf(b.buffer as never) };
  seen.push(b.buffer as never);
  releaseBody(b);
  return out;
});
afterAll(() => app.close());

function post(body: Buffer, headers: Record<string, string> = {}, chunked = false, path = '/echo'): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const addr = app.server.address() as { port: number };
    const req = request({ host: '127.0.0.1', port: addr.port, path, method: 'POST', headers: { 'content-type': 'application/octet-stream', ...(chunked ? {} : { 'content-length': String(body.length) }), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    if (chunked) {
      req.write(body.subarray(0, body.length >> 1));
      req.end(body.subarray(body.length >> 1));
    } else req.end(body);
  });
}

describe('readBody', () => {
  it('delivers the exact bytes, with and without Content-Length, and reuses released buffers', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const sum = (b: Buffer): number => b.reduce((a, x) => (a + x) % 65536, 0);
    for (const n of [0, 1, 700, 1000]) {
      const b = Buffer.alloc(n, 0).map((_, i) => (i * 7) & 255) as Buffer;
      for (const chunked of [false, true]) {
        const r = await post(Buffer.from(b), {}, chunked);
        expect(r.status).toBe(200);
        expect(JSON.parse(r.text)).toEqual({ len: n, sum: sum(Buffer.from(b)) });
      }
    }
  });
  it('reads large bodies into pooled memory that is reused after release, bytes intact', async () => {
    const sum = (b: Buffer): number => b.reduce((a, x) => (a + x) % 65536, 0);
    const answers = [];
    for (let k = 0; k < 3; k++) {
      const b = Buffer.alloc(200_000 + k * 1000).map((_, i) => (i * 13 + k) & 255) as Buffer;
      const r = await post(b, {}, false, '/big');
      const j = JSON.parse(r.text);
      expect(j.len).toBe(b.length);
      expect(j.sum).toBe(sum(b));
      answers.push(j.ab);
    }
    expect(answers.slice(1).some((x) => x >= 0)).toBe(true); // a released buffer came back
  });
  it('answers 413 over the route bodyLimit (announced or streamed) and stays up', async () => {
    expect((await post(Buffer.alloc(1001))).status).toBe(413);
    expect((await post(Buffer.alloc(5000), {}, true)).status).toBe(413);
    expect((await post(Buffer.alloc(10))).status).toBe(200);
  });
});
