#!/usr/bin/env node
import { runExecutable } from '../build/cli/main.js';

await runExecutable();
