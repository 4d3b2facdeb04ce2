// `npm run bench` (with resume.ts): what a stage costs on top of a bare Pi session, measured in one process
// against the same instant scripted model, as ratios against baselines measured in the same run:
// - a 100-stage chain against 100 bare SDK sessions created, prompted and disposed one after another;
// - a 100-way fan-out (the run-wide default of 4 in flight) against 100 bare sessions, 4 at a time;
//   a stage's cost is the marginal one: (a 100-stage run - a 1-stage run) / 99, so what every run pays once
//   (its folder, lock, journal header, first and last report) is not spread over its stages;
// - 5 stages as `pi -p` subprocesses (what running each stage in its own pi would cost), scaled per stage;
// - peak RSS of a 200-stage fan-out with 32 in flight and a model that takes 200 ms, in a fresh process.
// Repetitions alternate the measured shape and its baseline, and each figure is the median of the per-pair
// ratios, so a machine that drifts in speed moves both sides of a pair. Wall and CPU time are both shown; the
// targets are judged on CPU time (this process's, all threads), which other work on a shared machine disturbs
// far less than wall time. Prints a table and writes JSON.

import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
	createAgentSession,
	DefaultResourceLoader,
	SessionManager,
	SettingsManager,
	VERSION,
} from "@mariozechner/pi-coding-agent";
import { Type } from "typebox";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { runWorkflow } from "../extensions/workflows/engine/run.js";
import { modelHost } from "../extensions/workflows/stages/model-host.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import { createScriptedProvider } from "../extensions/workflows/testing/scripted-provider.js";
import { piCliPath } from "../scripts/pi-line.js";
import { median, printTable, writeResults } from "./report.js";

const STAGES = 100;
const FAN_OUT_IN_FLIGHT = 4;
const REPETITIONS = 11;
const SUBPROCESS_STAGES = 5;
const RSS_STAGES = 200;
const RSS_IN_FLIGHT = 32;
const RSS_DELAY_MS = 200;
const TARGETS = { stageVsBare: 1.3, subprocessVsStage: 300, rssMb: 300 };

const here = dirname(fileURLToPath(import.meta.url));
const root = mkdtempSync(join(tmpdir(), "pi-workflows-overhead-"));
const agentDir = join(root, "agent");
mkdirSync(agentDir);

async function scriptedRegistry(delayMs = 0) {
	const provider = createScriptedProvider({
		models: ["instant"],
		script: (request) => (delayMs ? { text: `done ${request.stage}`, delayMs } : `done ${request.stage}`),
	});
	return { provider, registry: await createInMemoryModelRegistry({ scripted: provider.config }) };
}

const chain = workflow({
	name: "bench-chain",
	description: "stages one after another",
	inputs: { stages: Type.Integer({ minimum: 1 }) },
	outputs: {},
	// Benches start thousands of stages on purpose: past the default limit of a run.
	budget: { maxStages: 100_000 },
	run: async (ctx) => {
		for (let index = 1; index <= ctx.inputs.stages; index++)
			await ctx.task("step", { prompt: `Step ${index}.`, tools: [] });
		return {};
	},
});

const fanOut = workflow({
	name: "bench-fan-out",
	description: "stages side by side",
	inputs: { stages: Type.Integer({ minimum: 1 }) },
	outputs: {},
	// Benches start thousands of stages on purpose: past the default limit of a run.
	budget: { maxStages: 100_000 },
	run: async (ctx) => {
		await ctx.parallel(
			Array.from({ length: ctx.inputs.stages }, (_, index) => ({
				name: "branch",
				prompt: `Branch ${index + 1}.`,
				tools: [],
			})),
		);
		return {};
	},
});

type Registry = Awaited<ReturnType<typeof scriptedRegistry>>["registry"];

/** One bare Pi session, as a stage needs it from Pi: in-memory settings, a resource loader, a transcript file. */
async function bareSession(registry: Registry, cwd: string, file: string): Promise<void> {
	const settingsManager = SettingsManager.inMemory({ compaction: { enabled: true }, retry: { enabled: true } });
	const resourceLoader = new DefaultResourceLoader({
		cwd,
		agentDir,
		settingsManager,
		noPromptTemplates: true,
		noThemes: true,
	});
	await resourceLoader.reload();
	const model = registry.find("scripted", "instant");
	if (!model) throw new Error("the scripted model is missing");
	const { session } = await createAgentSession({
		cwd,
		agentDir,
		...modelHost().sessionOptions(registry),
		settingsManager,
		resourceLoader,
		sessionManager: SessionManager.open(file, undefined, cwd),
		model,
		thinkingLevel: "off",
		tools: [],
	});
	try {
		await session.prompt("Bare step.", { expandPromptTemplates: false });
	} finally {
		session.dispose();
	}
}

/** What a piece of work cost: wall time, and the CPU time of this process (all its threads), which a busy
 * machine disturbs far less. */
interface Cost {
	wallMs: number;
	cpuMs: number;
}

async function measure(work: () => Promise<void>): Promise<Cost> {
	const cpu = process.cpuUsage();
	const startedAt = performance.now();
	await work();
	const used = process.cpuUsage(cpu);
	return { wallMs: performance.now() - startedAt, cpuMs: (used.user + used.system) / 1000 };
}

function bareSessions(registry: Registry, count: number, inFlight: number): Promise<Cost> {
	const cwd = mkdtempSync(join(root, "bare-"));
	let next = 0;
	return measure(async () => {
		await Promise.all(
			Array.from({ length: inFlight }, async () => {
				while (next < count) {
					const index = next++;
					await bareSession(registry, cwd, join(cwd, `s${index}.jsonl`));
				}
			}),
		);
	});
}

function workflowRun(definition: typeof chain | typeof fanOut, registry: Registry, stages: number): Promise<Cost> {
	const cwd = mkdtempSync(join(root, "run-"));
	return measure(async () => {
		const report = await runWorkflow(
			definition,
			{ stages },
			{ cwd, agentDir, modelRegistry: registry, defaultModel: "scripted/instant" },
		);
		if (report.status !== "completed" || report.stages.length !== stages) {
			throw new Error(`bench run ${report.runId} ended ${report.status} with ${report.stages.length} stages`);
		}
	});
}

/** What `stages` stages cost beyond what every run pays once (its folder, lock, journal header, first and last
 * report): a run of `stages` minus a run of one, scaled back to `stages`. */
async function marginalRun(
	definition: typeof chain | typeof fanOut,
	registry: Registry,
	stages: number,
): Promise<Cost> {
	const one = await workflowRun(definition, registry, 1);
	const many = await workflowRun(definition, registry, stages);
	const scale = stages / (stages - 1);
	return { wallMs: (many.wallMs - one.wallMs) * scale, cpuMs: (many.cpuMs - one.cpuMs) * scale };
}

interface Paired {
	measured: Cost;
	baseline: Cost;
	/** Median of the per-pair ratios, by wall time and by CPU time. */
	wallRatio: number;
	cpuRatio: number;
	cpuRatios: number[];
}

/** Per-pair ratios of `measured` to `baseline`, alternating which goes first. */
async function paired(measured: () => Promise<Cost>, baseline: () => Promise<Cost>): Promise<Paired> {
	const pairs: Array<{ measured: Cost; baseline: Cost }> = [];
	for (let repetition = 0; repetition < REPETITIONS; repetition++) {
		if (repetition % 2 === 0) pairs.push({ measured: await measured(), baseline: await baseline() });
		else {
			const base = await baseline();
			pairs.push({ measured: await measured(), baseline: base });
		}
	}
	const cost = (side: "measured" | "baseline"): Cost => ({
		wallMs: median(pairs.map((pair) => pair[side].wallMs)),
		cpuMs: median(pairs.map((pair) => pair[side].cpuMs)),
	});
	const cpuRatios = pairs.map((pair) => pair.measured.cpuMs / pair.baseline.cpuMs);
	return {
		measured: cost("measured"),
		baseline: cost("baseline"),
		wallRatio: median(pairs.map((pair) => pair.measured.wallMs / pair.baseline.wallMs)),
		cpuRatio: median(cpuRatios),
		cpuRatios,
	};
}

/** Wall time of one `pi -p` that prompts the scripted model once, the way a subprocess per stage would run. */
function subprocessStage(): number {
	const cwd = mkdtempSync(join(root, "pi-p-"));
	const script = join(cwd, "script.mjs");
	writeFileSync(script, "export const script = () => 'done';\n");
	const startedAt = performance.now();
	const result = spawnSync(
		process.execPath,
		[
			piCliPath(),
			"--no-extensions",
			"-e",
			join(here, "..", "tests", "support", "scripted-provider-extension.ts"),
			"--model",
			"scripted/fast",
			"--no-session",
			"-p",
			"Step.",
		],
		{
			cwd,
			env: { ...process.env, PI_CODING_AGENT_DIR: agentDir, PI_OFFLINE: "1", PI_WORKFLOWS_TEST_SCRIPT: script },
			stdio: ["ignore", "pipe", "pipe"],
		},
	);
	const ms = performance.now() - startedAt;
	if (result.status !== 0) throw new Error(`pi -p failed (exit ${result.status}): ${result.stderr}`);
	return ms;
}

/** Peak RSS (MB) of a fresh process running the 200-stage, 32-in-flight fan-out. */
function peakRss(): Promise<number> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--rss-child"], {
			env: process.env,
			stdio: ["ignore", "pipe", "inherit"],
		});
		let out = "";
		child.stdout.on("data", (chunk) => {
			out += chunk;
		});
		child.on("error", reject);
		child.on("close", (code) => {
			const match = /maxRssMb=([\d.]+)/.exec(out);
			if (code !== 0 || !match) reject(new Error(`the RSS run failed (exit ${code}): ${out}`));
			else resolve(Number(match[1]));
		});
	});
}

async function rssChild(): Promise<void> {
	const { registry } = await scriptedRegistry(RSS_DELAY_MS);
	const cwd = mkdtempSync(join(root, "rss-"));
	const report = await runWorkflow(
		fanOut,
		{ stages: RSS_STAGES },
		{
			cwd,
			agentDir,
			modelRegistry: registry,
			defaultModel: "scripted/instant",
			concurrency: RSS_IN_FLIGHT,
		},
	);
	if (report.status !== "completed") throw new Error(`the RSS run ended ${report.status}: ${report.errors}`);
	// maxRSS is in kilobytes.
	console.log(`maxRssMb=${(process.resourceUsage().maxRSS / 1024).toFixed(1)}`);
}

async function main(): Promise<void> {
	const { registry } = await scriptedRegistry();
	const cpu = cpus()[0]?.model ?? "unknown CPU";
	console.log(
		`pi-workflows overhead bench: Pi ${VERSION}, node ${process.version}, ${availableParallelism()} CPUs (${cpu})`,
	);
	console.log(`${STAGES} stages per shape, scripted model, median of ${REPETITIONS} alternating pairs\n`);
	// Warm-up: module loading and JIT out of the first pair.
	await workflowRun(chain, registry, 10);
	await bareSessions(registry, 10, 1);

	const chainVsBare = await paired(
		() => marginalRun(chain, registry, STAGES),
		() => bareSessions(registry, STAGES, 1),
	);
	const fanOutVsBare = await paired(
		() => marginalRun(fanOut, registry, STAGES),
		() => bareSessions(registry, STAGES, FAN_OUT_IN_FLIGHT),
	);
	const subprocessMs = median(Array.from({ length: SUBPROCESS_STAGES }, subprocessStage));
	const stageMs = chainVsBare.measured.wallMs / STAGES;
	const subprocessRatio = subprocessMs / stageMs;
	const rssMb = await peakRss();

	const perStage = (paired: Paired, label: string): string[] => [
		label,
		(paired.measured.wallMs / STAGES).toFixed(2),
		(paired.baseline.wallMs / STAGES).toFixed(2),
		`${paired.wallRatio.toFixed(2)}x`,
		(paired.measured.cpuMs / STAGES).toFixed(2),
		(paired.baseline.cpuMs / STAGES).toFixed(2),
		`${paired.cpuRatio.toFixed(2)}x`,
		`<= ${TARGETS.stageVsBare}x`,
	];
	printTable(
		["per stage", "wall ms", "bare wall ms", "wall ratio", "cpu ms", "bare cpu ms", "cpu ratio", "target"],
		[perStage(chainVsBare, "chain"), perStage(fanOutVsBare, `fan-out, ${FAN_OUT_IN_FLIGHT} in flight`)],
	);
	console.log(
		`\npi -p subprocess per stage: ${subprocessMs.toFixed(0)} ms, ${subprocessRatio.toFixed(0)}x a chain stage (target >= ${TARGETS.subprocessVsStage}x)`,
	);
	console.log(
		`peak RSS, ${RSS_STAGES} stages with ${RSS_IN_FLIGHT} in flight (model ${RSS_DELAY_MS} ms): ${rssMb.toFixed(0)} MB (target < ${TARGETS.rssMb} MB)`,
	);

	const results = {
		pi: VERSION,
		node: process.version,
		cpus: availableParallelism(),
		chain: chainVsBare,
		fanOut: fanOutVsBare,
		subprocess: { perStageMs: subprocessMs, stageMs, ratio: subprocessRatio },
		rss: { stages: RSS_STAGES, inFlight: RSS_IN_FLIGHT, delayMs: RSS_DELAY_MS, peakMb: rssMb },
		targets: TARGETS,
	};
	writeResults("overhead", VERSION, results);
}

try {
	if (process.argv.includes("--rss-child")) await rssChild();
	else await main();
} catch (error) {
	console.error(error);
	process.exitCode = 1;
} finally {
	rmSync(root, { recursive: true, force: true });
}
