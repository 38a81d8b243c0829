import type { PipelineInput, PipelineProgram } from './compile/pipeline.js';

/** What one sample line gives, as `tributary dry-run` prints it and the API's dry run returns it. */
export type DryRunLine =
  | { readonly line: number; readonly outcome: 'document'; readonly index: string; readonly document: unknown }
  | { readonly line: number; readonly outcome: 'drop'; readonly step: string }
  | { readonly line: number; readonly outcome: 'deadLetter'; readonly class: string; readonly step: string; readonly message: string };

/** Runs the pipeline over one sample record (`line`: its 1-based place among the samples). */
export function dryRunLine(program: PipelineProgram, input: PipelineInput, line: number): DryRunLine {
  const outcome = program.run(input);
  if (outcome.kind === 'document') return { line, outcome: 'document', index: outcome.index, document: outcome.document };
  if (outcome.kind === 'drop') return { line, outcome: 'drop', step: outcome.step };
  return { line, outcome: 'deadLetter', class: outcome.class, step: outcome.step, message: outcome.message };
}
