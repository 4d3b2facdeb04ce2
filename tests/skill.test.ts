// The package's skills load with Pi's own skill loader; the running skill teaches the tool's real actions.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadSkillsFromDir } from "@mariozechner/pi-coding-agent";
import { describe, expect, it } from "vitest";

describe("skills/workflows", () => {
	it("loads with Pi's loader, named after its folder, with a description", () => {
		const { skills, diagnostics } = loadSkillsFromDir({ dir: join(process.cwd(), "skills"), source: "test" });
		expect(diagnostics).toEqual([]);
		expect(skills.map((skill) => skill.name).sort()).toEqual(["workflow-authoring", "workflows"]);
		expect(skills.find((skill) => skill.name === "workflows")?.description).toContain("workflow tool");
	});

	it("mentions every action the workflow tool has, and only those", () => {
		const text = readFileSync(join(process.cwd(), "skills/workflows/SKILL.md"), "utf8");
		const mentioned = [...text.matchAll(/"action": "(\w+)"/g)].map((match) => match[1]);
		expect(new Set(mentioned)).toEqual(
			new Set(["list", "describe", "run", "status", "answer", "pause", "resume", "steer", "cancel", "save"]),
		);
		const tool = readFileSync(join(process.cwd(), "extensions/workflows/surface/workflow-tool.ts"), "utf8");
		for (const action of new Set(mentioned)) expect(tool).toContain(`"${action}"`);
	});
});
