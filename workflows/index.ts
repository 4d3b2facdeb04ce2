// The builtin workflows, for programmatic use: `import { reviewChange, task } from "pi-workflows/builtin"`.

export { default as reviewChange } from "./review-change.js";
export { default as task } from "./task.js";
