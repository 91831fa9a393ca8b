// What every exporter is told about the report besides its Markdown.

export interface ReportMeta {
  title: string;
  createdAt: Date;
}
