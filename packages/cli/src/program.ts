import { Command } from 'commander';
import type { CliContext } from './context.js';
import { enginesCommand } from './commands/engines.js';
import { upCommand } from './commands/up.js';
import { validateCommand } from './commands/validate.js';
import { testCommand } from './commands/test.js';
import { dryRunCommand } from './commands/dry-run.js';
import { controlPlaneCommand } from './commands/control-plane.js';
import { applyCommand } from './commands/apply.js';
import { processorCommand } from './commands/processor.js';
import { forwarderCommand } from './commands/forwarder.js';
import { notifierCommand } from './commands/notifier.js';
import { operatorCommand } from './commands/operator.js';
import { lagCommand } from './commands/lag.js';
import { topicsCommand } from './commands/topics.js';
import { dlqCommand } from './commands/dlq.js';
import { pipelineCommands } from './commands/pipelines.js';

/**
 * The `tributary` command tree; later features add their subcommands here. A command loads
 * the packages it runs when it runs (`await import` in its action), not when the tree is
 * built: the forwarder, one per node, would otherwise carry the processor's Elasticsearch
 * client, the control plane and the testkit (4 s more to start, 50 MiB more of RSS, and a
 * larger heap for every collection to walk).
 */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('tributary')
    .description('Tributary: the shared log pipeline for every team on your Kubernetes clusters')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => ctx.out.write(s), writeErr: (s) => ctx.err.write(s) });
  program.addCommand(enginesCommand(ctx));
  program.addCommand(upCommand(ctx));
  program.addCommand(validateCommand(ctx));
  program.addCommand(testCommand(ctx));
  program.addCommand(dryRunCommand(ctx));
  program.addCommand(controlPlaneCommand(ctx));
  program.addCommand(processorCommand(ctx));
  program.addCommand(forwarderCommand(ctx));
  program.addCommand(notifierCommand(ctx));
  program.addCommand(operatorCommand(ctx));
  program.addCommand(lagCommand(ctx));
  program.addCommand(topicsCommand(ctx));
  program.addCommand(applyCommand(ctx));
  program.addCommand(dlqCommand(ctx));
  for (const command of pipelineCommands(ctx)) program.addCommand(command);
  // Subcommands inherit output and error handling, so `--help` works at every level.
  for (const command of program.commands) inherit(program, command);
  return program;
}

function inherit(parent: Command, command: Command): void {
  command.exitOverride().showHelpAfterError().configureOutput(parent.configureOutput());
  for (const sub of command.commands) inherit(command, sub);
}
