/**
 * Imported first by benchmarks that measure the server as it runs in
 * production: graphql-js, Express and Apollo read NODE_ENV when they are
 * loaded (graphql-js picks its development-mode checks then), so setting
 * it in main() is too late.
 */
process.env.NODE_ENV ??= 'production';
