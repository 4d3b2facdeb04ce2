// `npm run bench` (with the others): what the extension adds to Pi's start in a project with many past runs. At
// session start it looks for runs a resume would continue (interrupted, paused, waiting for an answer) to offer
// them; this times that lookup with 10 past runs (the baseline) and with 1,000, of which 10 are interrupted, and
// checks that it finds exactly those. Target: under 50 ms, however many runs there are. Exits non-zero on a miss.

import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { VERSION } from "@mariozechner/pi-coding-agent";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { runWorkflow } from "../extensions/workflows/engine/run.js";
import { projectStore, resumableRuns } from "../extensions/workflows/engine/runs.js";
import { newRunId, runPaths } from "../extensions/workflows/store/run-directory.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import { createScriptedProvider } from "../extensions/workflows/testing/scripted-provider.js";
import { median, printTable, writeResults } from "./report.js";

const REPETITIONS = 7;
const TARGET_MS = 50;
const INTERRUPTED = 10;

const fourStages = workflow({
	name: "bench-four",
	description: "four stages one after another",
	run: async (ctx) => {
		for (let index = 1; index <= 4; index++) await ctx.task("step", { prompt: `Step ${index}.`, tools: [] });
		return {};
	},
});

const root = mkdtempSync(join(tmpdir(), "pi-workflows-bench-startup-"));
const provider = createScriptedProvider({ models: ["instant"], script: () => "done" });
const modelRegistry = await createInMemoryModelRegistry({ scripted: provider.config });

/** A project with `count` past runs, copies of one real run; the last `interrupted` of them cut before their end
 * (as a process that died leaves a run). */
async function projectWith(name: string, count: number, interrupted: number): Promise<{ cwd: string; cut: string[] }> {
	const cwd = join(root, name);
	mkdirSync(cwd, { recursive: true });
	const agentDir = join(root, "agent");
	const template = await runWorkflow(
		fourStages,
		{},
		{ cwd, agentDir, modelRegistry, defaultModel: "scripted/instant" },
	);
	const from = runPaths(cwd, template.runId);
	const cut: string[] = [];
	for (let index = 1; index < count; index++) {
		const runId = newRunId();
		const to = runPaths(cwd, runId);
		cpSync(from.runDir, to.runDir, { recursive: true });
		const lines = readFileSync(to.journal, "utf8").trimEnd().split("\n");
		lines[0] = lines[0]?.replace(template.runId, runId) ?? "";
		if (index > count - 1 - interrupted) {
			lines.pop();
			cut.push(runId);
			// As the process that created it did, before it died.
			projectStore(cwd).markOpen(runId, true);
		}
		writeFileSync(to.journal, `${lines.join("\n")}\n`);
	}
	return { cwd, cut };
}

function timeLookup(cwd: string, expected: readonly string[]): number[] {
	const samples: number[] = [];
	for (let repetition = 0; repetition < REPETITIONS; repetition++) {
		const startedAt = performance.now();
		const found = resumableRuns(projectStore(cwd)).map((report) => report.runId);
		samples.push(performance.now() - startedAt);
		const missed = expected.filter((runId) => !found.includes(runId));
		if (missed.length > 0 || found.length !== expected.length) {
			throw new Error(
				`expected the ${expected.length} interrupted runs, found ${found.length} (missed ${missed.join(", ")})`,
			);
		}
	}
	return samples;
}

async function main(): Promise<void> {
	console.log(
		`pi-workflows start-up bench: Pi ${VERSION}, node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "unknown CPU"})`,
	);
	console.log(`the session-start lookup of resumable runs, median of ${REPETITIONS}\n`);
	const small = await projectWith("ten", 10, 1);
	const large = await projectWith("thousand", 1_000, INTERRUPTED);
	const baseline = median(timeLookup(small.cwd, small.cut));
	const samples = timeLookup(large.cwd, large.cut);
	const thousand = median(samples);
	printTable(
		["past runs", "median ms", "vs 10 runs", "samples ms"],
		[
			["10", baseline.toFixed(1), "1.00x", ""],
			[
				"1,000",
				thousand.toFixed(1),
				`${(thousand / baseline).toFixed(2)}x`,
				samples.map((ms) => ms.toFixed(0)).join(" / "),
			],
		],
	);
	writeResults("startup", VERSION, { baselineMs: baseline, thousandRunsMs: thousand, targetMs: TARGET_MS, samples });
	if (thousand >= TARGET_MS) {
		console.error(`\nmissed the target: ${thousand.toFixed(1)} ms with 1,000 runs (target under ${TARGET_MS} ms)`);
		process.exitCode = 1;
	}
}

try {
	await main();
} finally {
	rmSync(root, { recursive: true, force: true });
}
