// esbuild loads .css as text (scripts/bundle.mjs); lit adopts it with unsafeCSS.
declare module "*.css" {
  const text: string;
  export default text;
}
