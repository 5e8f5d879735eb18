#!/usr/bin/env node
// Placeholder until the CLI lands (issue 8).
process.stdout.write('argo-market: the CLI is not built yet; see README.md\n');
