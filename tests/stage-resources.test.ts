// What a stage session loads: the user's own extensions, never pi-workflows itself.

import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { workflow } from "../extensions/workflows/authoring/workflow.js";
import { createHarness, type Harness } from "./support/harness.js";

describe("stage resources", () => {
	let harness: Harness;
	afterEach(() => harness?.cleanup());

	it("loads the user's extensions into a stage but never pi-workflows", async () => {
		harness = await createHarness(() => "ok");
		const extensions = join(harness.agentDir, "extensions");
		mkdirSync(extensions, { recursive: true });
		writeFileSync(
			join(extensions, "probe.ts"),
			[
				'import { Type } from "typebox";',
				"export default function (pi) {",
				'  pi.registerTool({ name: "probe_tool", label: "Probe", description: "probe", promptSnippet: "probe",',
				"    parameters: Type.Object({}), execute: async () => ({ content: [], details: {} }) });",
				"}",
			].join("\n"),
		);
		// pi-workflows installed as a user extension too: stages must not load it (no recursion).
		symlinkSync(resolve("extensions/workflows"), join(extensions, "workflows"));
		const definition = workflow({
			name: "isolation",
			description: "one stage",
			inputs: {},
			outputs: {},
			run: async (ctx) => {
				await ctx.task("inside", { prompt: "Look around" });
				return {};
			},
		});
		const report = await harness.run(definition, {});
		expect(report.status).toBe("completed");
		const tools = harness.provider.calls[0]?.tools ?? [];
		expect(tools).toContain("probe_tool");
		expect(tools).not.toContain("workflow");
	});
});
