// Every subcommand, by area. Each module exports register(program).
import type { Command } from 'commander';
import { register as daemon } from './daemon.js';
import { register as status } from './status.js';

export const COMMANDS: Array<(program: Command) => void> = [daemon, status];
