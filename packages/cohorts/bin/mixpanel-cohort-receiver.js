#!/usr/bin/env node
// Committed entry point: package managers link bins at install time, before `dist/` is built.
require('../dist/cli.js');
