#include <cstdio>
int main() { std::puts("agentserve"); return 0; }
