#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::cout << "mst-adapter " << MST_VERSION << "\n";
    return 0;
  }
  std::cout << "usage: mst-adapter --version\n";
  return 0;
}
