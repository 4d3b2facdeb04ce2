// Where a run lives on disk: `<cwd>/.pi/workflows/runs/<runId>/` with its journal, stage transcripts,
// artifacts and report. The runs folder carries a .gitignore so runs are never committed.

import { existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { customAlphabet } from "nanoid";

export interface RunPaths {
	runId: string;
	runDir: string;
	journal: string;
	stagesDir: string;
	artifactsDir: string;
	reportJson: string;
	reportMd: string;
}

const RUN_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Short, lower-case run ids (8 characters: about 2.8e12 possibilities). */
export const newRunId = customAlphabet(RUN_ID_ALPHABET, 8);

export function runsRoot(cwd: string): string {
	return join(cwd, ".pi", "workflows", "runs");
}

export function runPaths(cwd: string, runId: string): RunPaths {
	const runDir = join(runsRoot(cwd), runId);
	return {
		runId,
		runDir,
		journal: join(runDir, "journal.jsonl"),
		stagesDir: join(runDir, "stages"),
		artifactsDir: join(runDir, "artifacts"),
		reportJson: join(runDir, "report.json"),
		reportMd: join(runDir, "report.md"),
	};
}

/** Creates the folders of a new run (and the runs folder's .gitignore); fails if the run exists. */
export function createRunDirectory(cwd: string, runId: string): RunPaths {
	const root = runsRoot(cwd);
	mkdirSync(root, { recursive: true });
	const ignore = join(root, ".gitignore");
	if (!existsSync(ignore)) writeFileSync(ignore, "# Workflow runs are local receipts; never commit them.\n*\n");
	const paths = runPaths(cwd, runId);
	mkdirSync(paths.runDir);
	mkdirSync(paths.stagesDir);
	mkdirSync(paths.artifactsDir);
	return paths;
}

/** Files under the artifacts folder, relative to the run directory. Symbolic links are listed, never followed
 * (stages have bash: a link may point anywhere, or nowhere); what cannot be read is said, not thrown. */
export function listArtifacts(paths: RunPaths): { files: string[]; problems: string[] } {
	const files: string[] = [];
	const problems: string[] = [];
	const walk = (dir: string) => {
		let names: string[];
		try {
			names = readdirSync(dir).sort();
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
				problems.push(`artifacts: ${dir} could not be listed: ${(error as Error).message}`);
			}
			return;
		}
		for (const name of names) {
			const full = join(dir, name);
			try {
				if (lstatSync(full).isDirectory()) walk(full);
				else files.push(relative(paths.runDir, full));
			} catch (error) {
				problems.push(`artifacts: ${full} could not be read: ${(error as Error).message}`);
			}
		}
	};
	walk(paths.artifactsDir);
	return { files, problems };
}
