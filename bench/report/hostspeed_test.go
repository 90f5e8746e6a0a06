package main

import "testing"

func TestSpawnP50(t *testing.T) {
	d := spawnP50(5)
	if d <= 0 {
		t.Fatalf("spawnP50 = %v: /bin/true did not run", d)
	}
	t.Logf("spawn p50 here: %v", d)
}

func TestPageFaultCost(t *testing.T) {
	d := pageFaultCost()
	if d <= 0 {
		t.Fatalf("pageFaultCost = %v: the memory was not mapped or not timed", d)
	}
	t.Logf("page fault here: %v; hypervisor: %s", d, hypervisor())
}
