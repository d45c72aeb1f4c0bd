/** The contract every workload module keeps (see bench/workloads/index.ts). */

export interface WorkloadOptions {
  /** Shrunk sizes for a smoke run (the whole `--quick` run stays under a minute). */
  quick: boolean;
}

/**
 * A workload module: `export const id`, `export const title` and
 * `export async function run(opts)` answering its Markdown section, which starts with
 * a `## <title>` heading. The runner adds the markers and the date it was measured.
 */
export interface Workload {
  /** Short lower-case id, used on the command line (`npm run bench -- w1`) and in the section markers. */
  id: string;
  title: string;
  run(opts: WorkloadOptions): Promise<string>;
}
