// `npm run bench` (with the others): tokens sent to the model per stage by a 10-stage chain, handing off through
// files against the same chain passing the earlier stages' full texts in the prompt. Each stage answers ~4,000
// characters. Inline, stage n's prompt carries every earlier answer; with files, it names the earlier answers' files
// and the (scripted) model reads the one it needs with Pi's read tool, so what it is sent should stay flat.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { VERSION } from "@mariozechner/pi-coding-agent";
import { Type } from "typebox";
import type { StageResult } from "../extensions/workflows/authoring/types.js";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { runWorkflow } from "../extensions/workflows/engine/run.js";
import { createInMemoryModelRegistry } from "../extensions/workflows/testing/in-memory-models.js";
import { createScriptedProvider, type ScriptedRequest } from "../extensions/workflows/testing/scripted-provider.js";
import { printTable, writeResults } from "./report.js";

const STAGES = 10;
const ANSWER = "The findings of this stage, in detail. ".repeat(100);

const chain = workflow({
	name: "bench-handoff",
	description: "ten stages, each building on the ones before",
	inputs: { files: Type.Boolean() },
	run: async (ctx) => {
		const done: StageResult[] = [];
		for (let index = 1; index <= STAGES; index++) {
			const prompt = `Step ${index}: go on from the earlier steps.`;
			done.push(
				await ctx.task(`step-${index}`, {
					prompt,
					...(ctx.inputs.files
						? {
								output: `step-${index}.md`,
								outputMode: "file-only" as const,
								...(done.length > 0 ? { reads: done.map((result) => result.outputPath as string) } : {}),
								tools: ["read"],
							}
						: { previous: done, tools: [] }),
				}),
			);
		}
		return {};
	},
});

/** With files, a stage first reads the latest earlier file (the one it builds on), then answers. */
function script(request: ScriptedRequest) {
	const files = [...request.lastMessage.matchAll(/^- (\S+\.md)$/gm)].map((match) => match[1] as string);
	if (!request.afterToolResult && files.length > 0) {
		return { toolCalls: [{ name: "read", arguments: { path: files.at(-1) as string } }] };
	}
	return ANSWER;
}

async function main(): Promise<void> {
	console.log(
		`pi-workflows token bench: Pi ${VERSION}, node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "unknown CPU"})`,
	);
	console.log(`${STAGES} stages, each answering ${ANSWER.length} characters; input tokens sent per stage\n`);
	const root = mkdtempSync(join(tmpdir(), "pi-workflows-bench-tokens-"));
	try {
		const cwd = join(root, "project");
		mkdirSync(cwd, { recursive: true });
		const provider = createScriptedProvider({ models: ["instant"], script });
		const modelRegistry = await createInMemoryModelRegistry({ scripted: provider.config });
		const options = { cwd, agentDir: join(root, "agent"), modelRegistry, defaultModel: "scripted/instant" };
		const inline = await runWorkflow(chain, { files: false }, options);
		const files = await runWorkflow(chain, { files: true }, options);
		for (const report of [inline, files]) {
			if (report.status !== "completed")
				throw new Error(`run ${report.runId} ended ${report.status}: ${report.errors}`);
		}
		const inputOf = (report: typeof inline, index: number) =>
			report.stages.find((stage) => stage.id === `step-${index}`)?.usage.input ?? 0;
		const rows = Array.from({ length: STAGES }, (_, offset) => {
			const index = offset + 1;
			const text = inputOf(inline, index);
			const file = inputOf(files, index);
			return [String(index), String(text), String(file), `${(file / text).toFixed(2)}x`];
		});
		printTable(["stage", "inline: input tokens", "files: input tokens", "files / inline"], rows);
		const total = (report: typeof inline) => report.stages.reduce((sum, stage) => sum + stage.usage.input, 0);
		console.log(`\ntotal input tokens: inline ${total(inline)}, files ${total(files)}`);
		writeResults("tokens", VERSION, {
			inline: rows.map((row) => Number(row[1])),
			files: rows.map((row) => Number(row[2])),
		});
	} finally {
		rmSync(root, { recursive: true, force: true });
	}
}

await main();
