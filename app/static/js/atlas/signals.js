// Load signals on #atlas, for browser tests and assistive tech:
//   data-loaded  "true" once nothing is in flight (with aria-busy while loading)
//   data-loads   how many loads have finished
//   data-total, data-matched, data-markers, data-clusters, data-cluster-sum
//                the numbers of the primary source's last map answer
export function createSignals(root) {
  let loads = 0;
  let pending = 0;
  return {
    begin() {
      pending += 1;
      root.dataset.loaded = "false";
      root.setAttribute("aria-busy", "true");
    },
    end() {
      pending -= 1;
      loads += 1;
      root.dataset.loads = String(loads);
      if (!pending) {
        root.dataset.loaded = "true";
        root.removeAttribute("aria-busy");
      }
    },
    stats({ total, matched, markers, clusters, clusterSum }) {
      root.dataset.total = String(total);
      root.dataset.matched = String(matched);
      root.dataset.markers = String(markers);
      root.dataset.clusters = String(clusters);
      root.dataset.clusterSum = String(clusterSum);
    },
  };
}
