// Draws a run's stage graph as text, one line per stage grouped by depth:
//   1  scout
//   2  correctness <- scout
//      maintainability <- scout
//   3  synthesis <- correctness, maintainability

export interface GraphNode {
	id: string;
	parents: string[];
	/** Short state shown after the id (status, duration), optional. */
	label?: string;
}

export function renderGraph(nodes: readonly GraphNode[]): string[] {
	const depth = new Map<string, number>();
	for (const node of nodes) {
		// Nodes arrive in start order, so parents already have a depth; unknown parents count as roots.
		const parentDepth = Math.max(0, ...node.parents.map((parent) => depth.get(parent) ?? 0));
		depth.set(node.id, parentDepth + 1);
	}
	const levels = new Map<number, GraphNode[]>();
	for (const node of nodes) {
		const level = depth.get(node.id) ?? 1;
		levels.set(level, [...(levels.get(level) ?? []), node]);
	}
	const lines: string[] = [];
	const width = String(levels.size).length;
	for (const level of [...levels.keys()].sort((a, b) => a - b)) {
		(levels.get(level) ?? []).forEach((node, index) => {
			const prefix = index === 0 ? String(level).padStart(width) : " ".repeat(width);
			const from = node.parents.length > 0 ? ` <- ${node.parents.join(", ")}` : "";
			const label = node.label ? `  (${node.label})` : "";
			lines.push(`${prefix}  ${node.id}${from}${label}`);
		});
	}
	return lines;
}
