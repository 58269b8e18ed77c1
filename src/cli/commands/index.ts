// Every subcommand, by area. Each module exports register(program); a module that is
// missing here is a command users cannot run, so the list is checked by a test.
import type { Command } from 'commander';
import { register as daemon, registerReload } from './daemon.js';
import { register as status } from './status.js';
import { register as classify } from './classify.js';
import { register as lineage } from './lineage.js';
import { register as exception } from './exception.js';
import { register as explain } from './explain.js';
import { register as policy } from './policy.js';
import { register as audit } from './audit.js';
import { register as anonymize } from './anonymize.js';

export const COMMANDS: Array<(program: Command) => void> = [daemon, registerReload, status, classify, lineage, exception, explain, policy, audit, anonymize];
