typedef int mp__placeholder_generate;
