// Preloaded into s3rver by the tests (node --require): the server exits when the test process
// that started it goes away (its stdin pipe closes), so a crashed test run leaves none behind.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
