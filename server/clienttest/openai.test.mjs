// Acceptance tests of `bacoctl serve` through the official openai npm
// client. server/clienttest/node_test.go starts the server and runs
// `node --test` here with:
//   BACO_URL       the server's /v1 base URL
//   BACO_API_KEY   the key the server accepts
//   BACO_MODEL     the single-model id of stories260K
//   BACO_PIPELINE  a BACo pipeline whose base and aligned are both stories260K
// Expected values are independent of baco: llama2.c's greedy continuation
// and log-probabilities for stories260K (karpathy/llama2.c run.c, fp32).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = process.env.BACO_URL;
const apiKey = process.env.BACO_API_KEY ?? 'none';
const model = process.env.BACO_MODEL ?? 'stories260K';
const pipelineID = process.env.BACO_PIPELINE ?? 'stories-baco';
if (!baseURL) {
  throw new Error('BACO_URL is not set: run these tests through `go test ./server/clienttest`');
}
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });

// llama2.c's greedy continuation of BOS + "Once upon a time".
const GREEDY = ', there was a little girl named Lily. She loved to play outside in the park.';
// BOS + "Once upon a time" is 1 403 407 261 378 in stories260K's vocabulary.
const PROMPT_TOKENS = [1, 403, 407, 261, 378];
// llama2.c's log-probabilities of the first token after that prompt.
const FIRST_LOGPROBS = [
  { token: ',', logprob: -0.0317028 },
  { token: ' there', logprob: -3.5498426 },
  { token: ' in', logprob: -8.1214514 }, // id 322
];

function close(actual, expected, tol, what) {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual}, want ${expected} ± ${tol}`);
}

function sourcesOf(choice) {
  assert.ok(choice.baco, 'choice carries the baco extension');
  return choice.baco.tokens.map((t) => t.source);
}

test('GET /v1/models lists the pipeline and the single model', async () => {
  const ids = [];
  for await (const m of client.models.list()) {
    ids.push(m.id);
    assert.equal(m.object, 'model');
  }
  assert.ok(ids.includes(model), `models ${ids} include ${model}`);
  assert.ok(ids.includes(pipelineID), `models ${ids} include ${pipelineID}`);
});

test('greedy completion reproduces llama2.c, with usage and sources', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', temperature: 0, max_tokens: 20 });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.ok(GREEDY.startsWith(c.text) && c.text.startsWith(', there was a little girl named Lily'), `text ${JSON.stringify(c.text)}`);
  assert.equal(c.finish_reason, 'length');
  assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: 20, total_tokens: 25 });
  const src = sourcesOf(c);
  assert.equal(src.length, 20);
  assert.ok(src.every((s) => s === 'aligned'), 'a single model emits every token as aligned');
  assert.equal(c.baco.base_share, 0);
  assert.equal(c.baco.tokens.map((t) => t.text).join(''), c.text);
});

test('token-array prompt gives the same text', async () => {
  const r = await client.completions.create({ model, prompt: PROMPT_TOKENS, temperature: 0, max_tokens: 8 });
  assert.ok(r.choices[0].text.startsWith(', there was a little'), r.choices[0].text);
  assert.equal(r.usage.prompt_tokens, 5);
});

test('chat completion (no chat template: plain prompt) reproduces llama2.c', async () => {
  const r = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Once upon a time' }],
    temperature: 0,
    max_tokens: 12,
  });
  assert.equal(r.object, 'chat.completion');
  const c = r.choices[0];
  assert.equal(c.message.role, 'assistant');
  assert.ok(c.message.content.startsWith(', there was a little girl named Lily'), c.message.content);
  assert.equal(c.finish_reason, 'length');
  assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: 12, total_tokens: 17 });
  assert.equal(sourcesOf(c).length, 12);
});

test('streamed completion equals the plain one, with usage', async () => {
  const plain = await client.completions.create({ model, prompt: 'Once upon a time', temperature: 0, max_tokens: 24 });
  const stream = await client.completions.create({
    model, prompt: 'Once upon a time', temperature: 0, max_tokens: 24, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let chunks = 0;
  let finish = null;
  let usage = null;
  const sources = [];
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      chunks++;
      text += c.text;
      if (c.baco) sources.push(...c.baco.tokens.map((t) => t.source));
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.ok(chunks >= 2, `streamed in ${chunks} chunks: text, then the finish`);
  assert.equal(text, plain.choices[0].text);
  assert.equal(finish, 'length');
  assert.deepEqual(usage, plain.usage);
  assert.equal(sources.length, 24);
});

test('streamed chat with the BACo pipeline: text, sources and base share', async () => {
  const params = {
    model: pipelineID,
    messages: [{ role: 'user', content: 'Once upon a time' }],
    temperature: 0,
    max_tokens: 24,
    seed: 7,
    baco: { router: 'rand', gamma: 0.5 },
  };
  const plain = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let role = null;
  let usage = null;
  let share = null;
  const sources = [];
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) role = c.delta.role;
      if (c.delta.content) text += c.delta.content;
      if (c.baco) sources.push(...c.baco.tokens.map((t) => t.source));
      if (c.finish_reason) share = c.baco.base_share;
    }
  }
  assert.equal(role, 'assistant');
  // Base and aligned are the same model: greedy text whatever the router.
  assert.ok(text.startsWith(', there was a little girl named Lily'), text);
  assert.equal(text, plain.choices[0].message.content);
  assert.deepEqual(usage, plain.usage);
  // rand:0.5 with a fixed seed draws both sources, the same way twice.
  assert.deepEqual(sources, sourcesOf(plain.choices[0]));
  assert.ok(sources.includes('base') && sources.includes('aligned'), `sources ${sources}`);
  const base = sources.filter((s) => s === 'base').length;
  close(share, base / sources.length, 1e-12, 'base_share');
  close(plain.choices[0].baco.base_share, share, 0, 'plain base_share');
});

test('the baco extension routes every token to base', async () => {
  const r = await client.completions.create({
    model: pipelineID, prompt: 'Once upon a time', temperature: 0, max_tokens: 10, baco: { router: 'base' },
  });
  const c = r.choices[0];
  assert.ok(c.text.startsWith(', there was a little girl'), c.text);
  assert.ok(sourcesOf(c).every((s) => s === 'base'));
  assert.equal(c.baco.base_share, 1);
  assert.equal(r.baco.router, 'p-punc:0.5', 'the response names the pipeline default router');
});

test('chat logprobs match llama2.c', async () => {
  const r = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Once upon a time' }],
    temperature: 0,
    max_tokens: 3,
    logprobs: true,
    top_logprobs: 3,
  });
  const lp = r.choices[0].logprobs.content;
  assert.equal(lp.length, 3);
  assert.equal(lp[0].token, ',');
  close(lp[0].logprob, FIRST_LOGPROBS[0].logprob, 1e-4, 'logprob of ","');
  assert.equal(lp[0].top_logprobs.length, 3);
  lp[0].top_logprobs.forEach((t, i) => {
    assert.equal(t.token, FIRST_LOGPROBS[i].token);
    close(t.logprob, FIRST_LOGPROBS[i].logprob, 1e-4, `top_logprobs[${i}]`);
    assert.deepEqual(t.bytes, [...Buffer.from(t.token, 'utf8')]);
  });
  assert.equal(lp.map((t) => t.token).join(''), r.choices[0].message.content);
});

test('completion logprobs, streamed and plain, match llama2.c', async () => {
  const params = { model, prompt: 'Once upon a time', temperature: 0, max_tokens: 4, logprobs: 2 };
  const r = await client.completions.create(params);
  const l = r.choices[0].logprobs;
  assert.deepEqual(l.tokens.slice(0, 2), [',', ' there']);
  close(l.token_logprobs[0], FIRST_LOGPROBS[0].logprob, 1e-4, 'token_logprobs[0]');
  close(l.top_logprobs[0][' there'], FIRST_LOGPROBS[1].logprob, 1e-4, 'top_logprobs[0][" there"]');
  assert.deepEqual(l.text_offset, [0, 1, 7, 11]);
  const got = [];
  for await (const chunk of await client.completions.create({ ...params, stream: true })) {
    for (const c of chunk.choices) if (c.logprobs) got.push(...c.logprobs.token_logprobs);
  }
  assert.deepEqual(got, l.token_logprobs);
});

test('n choices with a seed are reproducible', async () => {
  const params = { model, prompt: 'Once upon a time', temperature: 1, max_tokens: 16, n: 3, seed: 42 };
  const a = await client.completions.create(params);
  const b = await client.completions.create(params);
  assert.equal(a.choices.length, 3);
  assert.deepEqual(a.choices.map((c) => c.index).sort(), [0, 1, 2]);
  assert.deepEqual(a.choices.map((c) => c.text), b.choices.map((c) => c.text));
  assert.equal(a.usage.prompt_tokens, 5);
});

test('stop strings end the text before them', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon a time', temperature: 0, max_tokens: 40, stop: [' Lily'] });
  assert.equal(r.choices[0].text, ', there was a little girl named');
  assert.equal(r.choices[0].finish_reason, 'stop');
  let text = '';
  for await (const chunk of await client.completions.create({
    model, prompt: 'Once upon a time', temperature: 0, max_tokens: 40, stop: [' Lily'], stream: true,
  })) {
    for (const c of chunk.choices) text += c.text;
  }
  assert.equal(text, ', there was a little girl named', 'a stream never shows the stop string');
});

test('errors are OpenAI error objects', async () => {
  const cases = [
    [{ model: 'no-such-model', prompt: 'x' }, 'model', 'model_not_found'],
    [{ model, prompt: 'x', max_tokens: -1 }, 'max_tokens', null],
    [{ model: pipelineID, prompt: 'x', baco: { rule: 'base.p1 <' } }, 'baco', 'invalid_router'],
    [{ model, prompt: 'Once upon a time '.repeat(200) }, 'prompt', 'context_length_exceeded'],
  ];
  for (const [params, param, code] of cases) {
    await assert.rejects(client.completions.create(params), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `${JSON.stringify(params).slice(0, 60)}: ${err}`);
      assert.equal(err.status, 400);
      assert.equal(err.param, param);
      assert.equal(err.code, code);
      assert.equal(err.type, 'invalid_request_error');
      assert.ok(err.message.length > 0);
      return true;
    });
  }
});

test('a wrong API key is refused', async () => {
  const bad = new OpenAI({ baseURL, apiKey: 'wrong-key', maxRetries: 0 });
  await assert.rejects(bad.models.list(), (err) => err instanceof OpenAI.AuthenticationError && err.status === 401);
});
