// `npm run bench` (with overhead.ts and task-loop.ts): how fast a run resumes, against a baseline measured in
// the same process. A workflow of 1,000 sequential stages runs against the scripted model (offline, every answer
// instant); then the run is resumed as a crash just before its end would leave it (every stage recorded, no
// run_finished), which must replay every stage without a model call, and resumed again once completed (a no-op).
// Also reports journal bytes per stage. Timings are medians of a few repetitions. Exits non-zero when a resume
// makes a model call or does not replay every stage.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { VERSION } from "@mariozechner/pi-coding-agent";
import { Type } from "typebox";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { resumeWorkflow, runWorkflow } from "../extensions/workflows/engine/run.js";
import type { RunReport } from "../extensions/workflows/store/report.js";
import { runPaths } from "../extensions/workflows/store/run-directory.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import { createScriptedProvider } from "../extensions/workflows/testing/scripted-provider.js";
import { median, printTable, writeResults } from "./report.js";

const STAGE_COUNT = 1_000;
const REPETITIONS = 5;
/** A short run first, so module loading and JIT warm-up do not land in the first timed repetition. */
const WARM_UP_STAGES = 20;

const sequentialStages = workflow({
	name: "bench-sequential",
	description: "Runs the given number of stages one after another",
	inputs: { stages: Type.Integer({ minimum: 1 }) },
	outputs: { last: Type.String() },
	// Benches start thousands of stages on purpose: past the default limit of a run.
	budget: { maxStages: 100_000 },
	run: async (ctx) => {
		let last = "";
		for (let index = 1; index <= ctx.inputs.stages; index++) {
			const result = await ctx.task("step", { prompt: `Answer step ${index}.`, tools: [] });
			last = result.text;
		}
		return { last };
	},
});

const root = mkdtempSync(join(tmpdir(), "pi-workflows-bench-"));
const cwd = join(root, "project");
const agentDir = join(root, "agent");
mkdirSync(cwd, { recursive: true });
mkdirSync(agentDir);
const provider = createScriptedProvider({ models: ["instant"], script: (request) => `done: ${request.stage}` });
const modelRegistry = await createInMemoryModelRegistry({ scripted: provider.config });
const engineOptions = { cwd, agentDir, modelRegistry, defaultModel: "scripted/instant" };

class BenchFailure extends Error {}

function expectThat(condition: boolean, problem: string): void {
	if (!condition) throw new BenchFailure(problem);
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
	const startedAt = performance.now();
	const value = await work();
	return { ms: performance.now() - startedAt, value };
}

function journalBytes(runId: string): number {
	return statSync(runPaths(cwd, runId).journal).size;
}

/** Leaves the journal as a process that died just before journaling run_finished would have left it. */
function cutLastJournalLine(runId: string): void {
	const path = runPaths(cwd, runId).journal;
	const lines = readFileSync(path, "utf8").trimEnd().split("\n");
	const last = JSON.parse(lines.pop() as string) as { type: string };
	expectThat(last.type === "run_finished", `run ${runId}: expected run_finished last, found ${last.type}`);
	writeFileSync(path, `${lines.join("\n")}\n`);
}

async function runBaseline(stages: number): Promise<{ ms: number; report: RunReport }> {
	const { ms, value: report } = await timed(() => runWorkflow(sequentialStages, { stages }, engineOptions));
	expectThat(report.status === "completed", `baseline run ${report.runId} ended ${report.status}: ${report.errors}`);
	expectThat(report.stages.length === stages, `baseline run ${report.runId} has ${report.stages.length} stages`);
	return { ms, report };
}

async function resumeWithoutModelCalls(runId: string, expectReplays: boolean): Promise<number> {
	const callsBefore = provider.calls.length;
	const { ms, value: report } = await timed(() => resumeWorkflow(sequentialStages, { ...engineOptions, runId }).done);
	const madeCalls = provider.calls.length - callsBefore;
	expectThat(madeCalls === 0, `resume of run ${runId} made ${madeCalls} model calls; expected none`);
	expectThat(report.status === "completed", `resume of run ${runId} ended ${report.status}: ${report.errors}`);
	expectThat(report.stages.length === STAGE_COUNT, `resume of run ${runId} reports ${report.stages.length} stages`);
	if (expectReplays) {
		const notReplayed = report.stages.filter((stage) => !stage.replayed).map((stage) => stage.id);
		expectThat(notReplayed.length === 0, `resume of run ${runId} did not replay: ${notReplayed.slice(0, 5)}`);
	}
	return ms;
}

interface Measure {
	label: string;
	samples: number[];
}

function printTimings(measures: Measure[]): void {
	const baseline = median((measures[0] as Measure).samples);
	const rows = measures.map(({ label, samples }) => {
		const ms = median(samples);
		return [
			label,
			ms.toFixed(1),
			(ms / STAGE_COUNT).toFixed(3),
			`${(ms / baseline).toFixed(3)}x`,
			samples.map((sample) => sample.toFixed(0)).join(" / "),
		];
	});
	printTable(["measure", "median ms", "ms / stage", "vs baseline", "samples ms"], rows);
}

async function main(): Promise<void> {
	const cpu = cpus()[0]?.model ?? "unknown CPU";
	console.log(
		`pi-workflows resume bench: Pi ${VERSION}, node ${process.version}, ${availableParallelism()} CPUs (${cpu})`,
	);
	console.log(`${STAGE_COUNT} sequential stages, scripted model, median of ${REPETITIONS} repetitions\n`);
	await runBaseline(WARM_UP_STAGES);

	const baseline: Measure = { label: `run ${STAGE_COUNT} stages (baseline)`, samples: [] };
	const replay: Measure = { label: "resume, every stage recorded (load + replay)", samples: [] };
	const noOp: Measure = { label: "resume of the completed run (no-op)", samples: [] };
	let bytesOfRun = 0;
	let bytesAfterReplay = 0;
	for (let repetition = 0; repetition < REPETITIONS; repetition++) {
		const { ms, report } = await runBaseline(STAGE_COUNT);
		baseline.samples.push(ms);
		bytesOfRun = journalBytes(report.runId);
		cutLastJournalLine(report.runId);
		replay.samples.push(await resumeWithoutModelCalls(report.runId, true));
		bytesAfterReplay = journalBytes(report.runId);
		const journalBefore = readFileSync(runPaths(cwd, report.runId).journal, "utf8");
		noOp.samples.push(await resumeWithoutModelCalls(report.runId, true));
		const journalAfter = readFileSync(runPaths(cwd, report.runId).journal, "utf8");
		expectThat(journalAfter === journalBefore, `no-op resume of run ${report.runId} changed its journal`);
	}

	printTimings([baseline, replay, noOp]);
	console.log();
	printTable(
		["journal", "bytes", "bytes / stage", "vs run"],
		[
			["after the run", String(bytesOfRun), (bytesOfRun / STAGE_COUNT).toFixed(0), "1.000x"],
			[
				"after the replay",
				String(bytesAfterReplay),
				(bytesAfterReplay / STAGE_COUNT).toFixed(0),
				`${(bytesAfterReplay / bytesOfRun).toFixed(3)}x`,
			],
		],
	);
	const results = {
		pi: VERSION,
		node: process.version,
		stages: STAGE_COUNT,
		medianMs: { run: median(baseline.samples), replay: median(replay.samples), noOp: median(noOp.samples) },
		samplesMs: { run: baseline.samples, replay: replay.samples, noOp: noOp.samples },
		journalBytesPerStage: { run: bytesOfRun / STAGE_COUNT, afterReplay: bytesAfterReplay / STAGE_COUNT },
	};
	writeResults("resume", VERSION, results);
}

try {
	await main();
} catch (error) {
	console.error(error instanceof BenchFailure ? `bench failed: ${error.message}` : error);
	process.exitCode = 1;
} finally {
	rmSync(root, { recursive: true, force: true });
}
