// Type declaration for seedrandom's alea generator module (not covered by @types/seedrandom).
declare module 'seedrandom/lib/alea.js' {
  const alea: (seed: string) => () => number;
  export default alea;
}
