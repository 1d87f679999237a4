#!/usr/bin/env node
// The `allied` command: serve, migrate, token, print-schema. Built by `npm run build`.
require('../dist/src/main.js');
