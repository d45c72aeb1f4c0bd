export { ExportRepository } from "./repository.js";
export { ExportService } from "./service.js";
export { EXPORT_SECTIONS, type ExportOptions, type ExportRecord, type ExportRecordType } from "./types.js";
