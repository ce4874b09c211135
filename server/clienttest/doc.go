// Package clienttest holds the acceptance test of `bacoctl serve` with the
// official openai npm client: its Go test builds bacoctl, serves
// stories260K (alone and as a BACo pipeline) on a free loopback port, and
// runs `node --test` on openai.test.mjs against it. Install the client
// first with `npm ci` in this folder; without node, npm or node_modules the
// test is skipped with a message saying so.
package clienttest
