export default {
  "noop-worker-plain": ({ i }) => ({ i })
}
