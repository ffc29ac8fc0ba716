// Vite's `?raw` imports: a fixture file's text, bundled into the test so workerd needs no fs.
declare module '*?raw' {
  const text: string
  export default text
}
