// Where a run lives on disk: `<cwd>/.pi/workflows/runs/<runId>/` with its journal, stage transcripts,
// artifacts and report. The runs folder carries a .gitignore so runs are never committed.

import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
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

/** Files under the artifacts folder, relative to the run directory. */
export function listArtifacts(paths: RunPaths): string[] {
	const found: string[] = [];
	const walk = (dir: string) => {
		if (!existsSync(dir)) return;
		for (const name of readdirSync(dir).sort()) {
			const full = join(dir, name);
			if (statSync(full).isDirectory()) walk(full);
			else found.push(relative(paths.runDir, full));
		}
	};
	walk(paths.artifactsDir);
	return found;
}
