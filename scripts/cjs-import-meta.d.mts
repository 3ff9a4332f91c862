export const cjsImportMeta: { define: Record<string, string>; banner: { js: string } };
